export { waitFor } from '../../testkit/wait.ts';
