import { startApp } from './server.js';

// The App's process entry: `npm start`. Configuration errors end the process with the reason.
startApp(process.env).then(
  (app) => {
    const stop = () => {
      app.close().then(() => process.exit(0), (err: Error) => { console.error(`Living Bridge did not stop cleanly: ${err.message}`); process.exit(1); });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  },
  (err: Error) => {
    console.error(err.message);
    process.exit(78); // EX_CONFIG
  },
);
