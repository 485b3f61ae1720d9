export { appendMessage, appendMessages, appendStatement } from './append.ts';
export { prepareMessage, type PreparedMessage } from './prepare.ts';
export { historyStatement, messageHistory } from './history.ts';
export { getMessage, messageThread } from './read.ts';
export { clearMessages, deleteMessage } from './remove.ts';
export { toMessage, type MessageRow } from './rows.ts';
export { searchMessages } from './search.ts';
export { drainSearchQueue, indexQueuedMessages, type IndexedBatch } from './search-index.ts';
export { editMessage, messageVersions } from './edit.ts';
