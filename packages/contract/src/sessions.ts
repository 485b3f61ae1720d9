// Filled by the sessions work.
export {};
