export { setup } from '@threadstore/db/testing';
