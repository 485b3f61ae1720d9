// Filled by the messages work.
export {};
