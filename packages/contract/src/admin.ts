// Filled by the admin work.
export {};
