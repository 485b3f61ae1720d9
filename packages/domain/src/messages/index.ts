export { appendMessage, appendMessages, appendStatement } from './append.ts';
export { prepareMessage, type PreparedMessage } from './prepare.ts';
export { historyStatement, messageHistory } from './history.ts';
export { getMessage, messageThread } from './read.ts';
export { clearMessages, deleteMessage } from './remove.ts';
export { restoreMessage, undoClear } from './restore.ts';
export { toMessage, type MessageRow } from './rows.ts';
export { messageSearchPage, messageSearchStatement, searchMessages, type MessageHitRow } from './search.ts';
export { drainSearchQueue, indexQueuedMessages, type IndexedBatch } from './search-index.ts';
