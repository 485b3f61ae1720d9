export { setup } from '../src/testing/global-setup.ts';
