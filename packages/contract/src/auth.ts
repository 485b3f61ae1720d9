// Filled by the auth work.
export {};
