import * as z from 'zod';

/**
 * The languages a knowledge entry or memory is written in, for stemming and stop words:
 * `simple` lower-cases words and nothing more (any other language, or none).
 */
export const SEARCH_LANGUAGE_NAMES = ['english', 'portuguese', 'simple'] as const;
export const ZSearchLanguage = z.enum(SEARCH_LANGUAGE_NAMES);
export type TSearchLanguage = z.infer<typeof ZSearchLanguage>;

/**
 * A query in web-search syntax: words (all required), "quoted phrases", OR, -exclusions. The
 * server refuses an empty, over-long (1,000 characters) or unsearchable query with BAD_REQUEST.
 */
export const ZSearchQuery = z.string().max(10_000);
