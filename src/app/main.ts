import { createLogger, envFlag } from '../pipeline/build-context.js';
import { checkGitHub } from './reachability.js';
import { startApp } from './server.js';

// The App's process entry: `npm start` (compiled: dist/app/main.js). Configuration errors end the
// process with every problem listed at once; GitHub reachability is checked and reported, not fatal.
startApp(process.env).then(
  (app) => {
    const stop = () => {
      app.close().then(() => process.exit(0), (err: Error) => { console.error(`Living Bridge did not stop cleanly: ${err.message}`); process.exit(1); });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    if (envFlag(process.env, 'LIVING_BRIDGE_STARTUP_CHECK', true)) {
      const log = createLogger('living-bridge', process.env.LOG_LEVEL ?? 'info');
      void checkGitHub(process.env).then((r) => (r.ok ? log.info({ github: r.url }, r.message) : log.error({ github: r.url }, r.message)));
    }
  },
  (err: Error) => {
    console.error(err.message);
    process.exit(78); // EX_CONFIG
  },
);
