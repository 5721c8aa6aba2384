/** Entry point of the bundled Action (action/dist/index.js): the runner executes this file. */
import { run } from './main.js';

await run();
