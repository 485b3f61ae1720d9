// Filled by the api-keys work.
export {};
