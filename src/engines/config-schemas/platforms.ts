/**
 * JSON Schemas (draft-07) of the deploy configs Living Bridge knows, written from each platform's
 * documentation of its fields. They are deliberately small: the documented top-level keys (so a typo
 * or a stale key is caught), the required fields and the enumerations a deploy fails on. Shipped with
 * the code and never fetched at run time.
 */
type Schema = Record<string, unknown>;

const stringMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const strings: Schema = { type: 'array', items: { type: 'string' } };
const port: Schema = { type: 'integer', minimum: 1, maximum: 65535 };

/** vercel.json — https://vercel.com/docs/project-configuration */
export const VERCEL_JSON: Schema = {
  $id: 'living-bridge:vercel.json',
  title: 'vercel.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    version: { const: 2 },
    name: { type: 'string' },
    buildCommand: { type: ['string', 'null'], maxLength: 256 },
    devCommand: { type: ['string', 'null'], maxLength: 256 },
    installCommand: { type: ['string', 'null'], maxLength: 256 },
    ignoreCommand: { type: ['string', 'null'] },
    outputDirectory: { type: ['string', 'null'] },
    framework: { type: ['string', 'null'] },
    cleanUrls: { type: 'boolean' },
    trailingSlash: { type: 'boolean' },
    public: { type: 'boolean' },
    regions: strings,
    functionFailoverRegions: strings,
    bunVersion: { type: 'string' },
    fluid: { type: 'boolean' },
    env: stringMap,
    build: { type: 'object', properties: { env: stringMap }, additionalProperties: false },
    functions: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          runtime: { type: 'string' },
          memory: { type: 'integer', minimum: 128, maximum: 10240 },
          maxDuration: { type: 'integer', minimum: 1 },
          includeFiles: { type: 'string' },
          excludeFiles: { type: 'string' },
          regions: strings,
          supportsCancellation: { type: 'boolean' },
        },
      },
    },
    crons: {
      type: 'array',
      items: { type: 'object', required: ['path', 'schedule'], additionalProperties: false, properties: { path: { type: 'string', pattern: '^/' }, schedule: { type: 'string', minLength: 9 } } },
    },
    rewrites: { type: 'array', items: { type: 'object', required: ['source', 'destination'], properties: { source: { type: 'string' }, destination: { type: 'string' }, has: { type: 'array' }, missing: { type: 'array' } }, additionalProperties: false } },
    redirects: {
      type: 'array',
      items: {
        type: 'object', required: ['source', 'destination'], additionalProperties: false,
        properties: { source: { type: 'string' }, destination: { type: 'string' }, permanent: { type: 'boolean' }, statusCode: { enum: [301, 302, 303, 307, 308] }, has: { type: 'array' }, missing: { type: 'array' } },
      },
    },
    headers: {
      type: 'array',
      items: {
        type: 'object', required: ['source', 'headers'], additionalProperties: false,
        properties: {
          source: { type: 'string' },
          headers: { type: 'array', items: { type: 'object', required: ['key', 'value'], properties: { key: { type: 'string' }, value: { type: 'string' } }, additionalProperties: false } },
          has: { type: 'array' }, missing: { type: 'array' },
        },
      },
    },
    routes: { type: 'array', items: { type: 'object' } },
    images: { type: 'object' },
    git: { type: 'object', properties: { deploymentEnabled: { type: ['boolean', 'object'] } } },
    github: { type: 'object', properties: { enabled: { type: 'boolean' }, silent: { type: 'boolean' }, autoJobCancelation: { type: 'boolean' } } },
  },
};

const netlifyBuild: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    base: { type: 'string' },
    publish: { type: 'string' },
    command: { type: 'string' },
    functions: { type: 'string' },
    edge_functions: { type: 'string' },
    ignore: { type: 'string' },
    environment: stringMap,
    processing: { type: 'object' },
  },
};

/** netlify.toml — https://docs.netlify.com/configure-builds/file-based-configuration/ */
export const NETLIFY_TOML: Schema = {
  $id: 'living-bridge:netlify.toml',
  title: 'netlify.toml',
  type: 'object',
  additionalProperties: false,
  properties: {
    build: netlifyBuild,
    context: { type: 'object', additionalProperties: netlifyBuild },
    redirects: {
      type: 'array',
      items: {
        type: 'object', required: ['from', 'to'], additionalProperties: false,
        properties: {
          from: { type: 'string' }, to: { type: 'string' }, status: { type: 'integer', minimum: 200, maximum: 599 }, force: { type: 'boolean' },
          query: stringMap, conditions: { type: 'object' }, headers: stringMap, signed: { type: 'string' },
        },
      },
    },
    headers: { type: 'array', items: { type: 'object', required: ['for', 'values'], additionalProperties: false, properties: { for: { type: 'string' }, values: stringMap } } },
    plugins: { type: 'array', items: { type: 'object', required: ['package'], additionalProperties: false, properties: { package: { type: 'string' }, inputs: { type: 'object' } } } },
    functions: { type: 'object' },
    edge_functions: { type: 'array', items: { type: 'object', required: ['function'], properties: { path: { type: 'string' }, function: { type: 'string' }, cache: { type: 'string' } } } },
    dev: { type: 'object' },
    images: { type: 'object' },
    template: { type: 'object' },
  },
};

const renderEnvVar: Schema = {
  type: 'object',
  properties: {
    key: { type: 'string', minLength: 1 }, value: { type: ['string', 'number', 'boolean'] }, generateValue: { type: 'boolean' }, sync: { type: 'boolean' },
    fromDatabase: { type: 'object', required: ['name', 'property'] }, fromService: { type: 'object', required: ['type', 'name'] }, fromGroup: { type: 'string' },
  },
  oneOf: [{ required: ['key'] }, { required: ['fromGroup'] }],
};

/** render.yaml (Blueprint) — https://render.com/docs/blueprint-spec */
export const RENDER_YAML: Schema = {
  $id: 'living-bridge:render.yaml',
  title: 'render.yaml',
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { type: 'string' },
    previews: { type: 'object' },
    projects: { type: 'array' },
    services: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'name'],
        properties: {
          type: { enum: ['web', 'pserv', 'worker', 'cron', 'keyvalue', 'redis'] },
          name: { type: 'string', minLength: 1 },
          runtime: { enum: ['node', 'python', 'elixir', 'go', 'ruby', 'rust', 'docker', 'image', 'static'] },
          env: { enum: ['node', 'python', 'elixir', 'go', 'ruby', 'rust', 'docker', 'image', 'static'] },
          plan: { type: 'string' },
          region: { enum: ['oregon', 'ohio', 'virginia', 'frankfurt', 'singapore'] },
          buildCommand: { type: 'string' }, startCommand: { type: 'string' }, preDeployCommand: { type: 'string' },
          repo: { type: 'string' }, branch: { type: 'string' }, rootDir: { type: 'string' },
          dockerfilePath: { type: 'string' }, dockerContext: { type: 'string' }, image: { type: 'object' },
          schedule: { type: 'string' },
          numInstances: { type: 'integer', minimum: 1 },
          healthCheckPath: { type: 'string', pattern: '^/' },
          autoDeploy: { type: 'boolean' },
          envVars: { type: 'array', items: renderEnvVar },
          disk: { type: 'object', required: ['name', 'mountPath'], properties: { name: { type: 'string' }, mountPath: { type: 'string' }, sizeGB: { type: 'integer', minimum: 1 } } },
          domains: strings,
          staticPublishPath: { type: 'string' },
          scaling: { type: 'object', properties: { minInstances: { type: 'integer', minimum: 1 }, maxInstances: { type: 'integer', minimum: 1 }, targetMemoryPercent: { type: 'integer' }, targetCPUPercent: { type: 'integer' } } },
        },
        // A cron job needs its schedule.
        if: { properties: { type: { const: 'cron' } } },
        then: { required: ['schedule'] },
      },
    },
    databases: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, databaseName: { type: 'string' }, user: { type: 'string' }, plan: { type: 'string' }, region: { type: 'string' }, postgresMajorVersion: { type: ['string', 'integer'] }, ipAllowList: { type: 'array' } } } },
    envVarGroups: { type: 'array', items: { type: 'object', required: ['name', 'envVars'], properties: { name: { type: 'string' }, envVars: { type: 'array', items: renderEnvVar } } } },
  },
};

const flyConcurrency: Schema = { type: 'object', properties: { type: { enum: ['connections', 'requests'] }, hard_limit: { type: 'integer', minimum: 1 }, soft_limit: { type: 'integer', minimum: 1 } } };
const flyAutoStop: Schema = { oneOf: [{ type: 'boolean' }, { enum: ['off', 'stop', 'suspend'] }] };
const duration: Schema = { type: ['string', 'integer'] };

/** fly.toml — https://fly.io/docs/reference/configuration/ */
export const FLY_TOML: Schema = {
  $id: 'living-bridge:fly.toml',
  title: 'fly.toml',
  type: 'object',
  additionalProperties: false,
  properties: {
    app: { type: 'string', minLength: 1 },
    primary_region: { type: 'string', pattern: '^[a-z]{3}$' },
    kill_signal: { enum: ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGKILL', 'SIGSTOP'] },
    kill_timeout: duration,
    swap_size_mb: { type: 'integer', minimum: 0 },
    console_command: { type: 'string' },
    build: { type: 'object', properties: { image: { type: 'string' }, dockerfile: { type: 'string' }, builder: { type: 'string' }, buildpacks: strings, 'build-target': { type: 'string' }, args: stringMap, ignorefile: { type: 'string' } }, additionalProperties: false },
    env: stringMap,
    deploy: { type: 'object', properties: { release_command: { type: 'string' }, release_command_timeout: duration, strategy: { enum: ['rolling', 'immediate', 'canary', 'bluegreen'] }, max_unavailable: { type: 'number', minimum: 0 }, wait_timeout: duration }, additionalProperties: false },
    http_service: {
      type: 'object',
      required: ['internal_port'],
      properties: {
        internal_port: port, force_https: { type: 'boolean' }, auto_stop_machines: flyAutoStop, auto_start_machines: { type: 'boolean' },
        min_machines_running: { type: 'integer', minimum: 0 }, processes: strings, concurrency: flyConcurrency, checks: { type: 'array' }, http_options: { type: 'object' }, tls_options: { type: 'object' },
      },
    },
    services: {
      type: 'array',
      items: {
        type: 'object',
        required: ['internal_port'],
        properties: {
          internal_port: port, protocol: { enum: ['tcp', 'udp'] }, processes: strings, concurrency: flyConcurrency,
          auto_stop_machines: flyAutoStop, auto_start_machines: { type: 'boolean' }, min_machines_running: { type: 'integer', minimum: 0 },
          ports: { type: 'array', items: { type: 'object', properties: { port, start_port: port, end_port: port, handlers: { type: 'array', items: { enum: ['http', 'tls', 'proxy_proto', 'pg_tls', 'edge_http'] } }, force_https: { type: 'boolean' } } } },
          tcp_checks: { type: 'array' }, http_checks: { type: 'array' },
        },
      },
    },
    mounts: {
      oneOf: [
        { type: 'object', required: ['source', 'destination'] },
        { type: 'array', items: { type: 'object', required: ['source', 'destination'] } },
      ],
    },
    checks: { type: 'object' },
    vm: { type: 'array', items: { type: 'object', properties: { size: { type: 'string' }, memory: { type: ['string', 'integer'] }, cpu_kind: { enum: ['shared', 'performance'] }, cpus: { type: 'integer', minimum: 1 }, processes: strings } } },
    processes: stringMap,
    statics: { type: 'array', items: { type: 'object', required: ['guest_path', 'url_prefix'] } },
    metrics: { type: ['object', 'array'] },
    experimental: { type: 'object' },
    restart: { type: 'array' },
    files: { type: 'array' },
  },
};

/** app.json (Heroku app manifest) — https://devcenter.heroku.com/articles/app-json-schema */
export const HEROKU_APP_JSON: Schema = {
  $id: 'living-bridge:app.json',
  title: 'app.json (Heroku)',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', minLength: 3, maxLength: 30 },
    description: { type: 'string' },
    keywords: strings,
    website: { type: 'string' },
    repository: { type: 'string' },
    logo: { type: 'string' },
    success_url: { type: 'string' },
    stack: { type: 'string' },
    image: { type: 'string' },
    scripts: { type: 'object', properties: { postdeploy: { type: 'string' }, 'pr-predestroy': { type: 'string' } }, additionalProperties: false },
    env: {
      type: 'object',
      additionalProperties: {
        oneOf: [
          { type: 'string' },
          { type: 'object', additionalProperties: false, properties: { description: { type: 'string' }, value: { type: 'string' }, required: { type: 'boolean' }, generator: { const: 'secret' } } },
        ],
      },
    },
    formation: { type: 'object', additionalProperties: { type: 'object', properties: { quantity: { type: 'integer', minimum: 0 }, size: { type: 'string' } } } },
    addons: { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'object', required: ['plan'], properties: { plan: { type: 'string' }, as: { type: 'string' }, options: { type: 'object' } } }] } },
    buildpacks: { type: 'array', items: { type: 'object', required: ['url'], properties: { url: { type: 'string' } } } },
    environments: { type: 'object' },
  },
};

const dns1123: Schema = { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' };
const quantityMap: Schema = { type: 'object', additionalProperties: { type: ['string', 'number'] } };

/** A Kubernetes apps/v1 Deployment — https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/ */
export const KUBERNETES_DEPLOYMENT: Schema = {
  $id: 'living-bridge:kubernetes-deployment',
  title: 'Kubernetes Deployment (apps/v1)',
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'apps/v1' },
    kind: { const: 'Deployment' },
    metadata: { type: 'object', required: ['name'], properties: { name: dns1123, namespace: { type: 'string' }, labels: stringMap, annotations: stringMap } },
    spec: {
      type: 'object',
      required: ['selector', 'template'],
      properties: {
        replicas: { type: 'integer', minimum: 0 },
        minReadySeconds: { type: 'integer', minimum: 0 },
        revisionHistoryLimit: { type: 'integer', minimum: 0 },
        progressDeadlineSeconds: { type: 'integer', minimum: 1 },
        paused: { type: 'boolean' },
        selector: { type: 'object', properties: { matchLabels: stringMap, matchExpressions: { type: 'array', items: { type: 'object', required: ['key', 'operator'], properties: { key: { type: 'string' }, operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }, values: strings } } } } },
        strategy: { type: 'object', properties: { type: { enum: ['RollingUpdate', 'Recreate'] }, rollingUpdate: { type: 'object', properties: { maxSurge: { type: ['string', 'integer'] }, maxUnavailable: { type: ['string', 'integer'] } } } } },
        template: {
          type: 'object',
          required: ['spec'],
          properties: {
            metadata: { type: 'object', properties: { labels: stringMap, annotations: stringMap } },
            spec: {
              type: 'object',
              required: ['containers'],
              properties: {
                containers: {
                  type: 'array',
                  minItems: 1,
                  items: {
                    type: 'object',
                    required: ['name'],
                    properties: {
                      name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
                      image: { type: 'string', minLength: 1 },
                      imagePullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
                      command: strings,
                      args: strings,
                      ports: { type: 'array', items: { type: 'object', required: ['containerPort'], properties: { containerPort: port, hostPort: port, name: { type: 'string', maxLength: 15 }, protocol: { enum: ['TCP', 'UDP', 'SCTP'] } } } },
                      env: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, value: { type: 'string' }, valueFrom: { type: 'object' } } } },
                      resources: { type: 'object', properties: { limits: quantityMap, requests: quantityMap } },
                    },
                  },
                },
                initContainers: { type: 'array', items: { type: 'object', required: ['name'] } },
                serviceAccountName: { type: 'string' },
                restartPolicy: { const: 'Always' },
              },
            },
          },
        },
      },
    },
  },
};
