export { setup } from '@threadstore/db/testing/global-setup';
