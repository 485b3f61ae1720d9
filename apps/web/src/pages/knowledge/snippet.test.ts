import { describe, expect, it } from 'vitest';
import { parseSnippet } from './snippet.ts';

describe('parseSnippet', () => {
  it('splits matched words from the text around them', () => {
    expect(parseSnippet('the <b>vacuum</b> of <b>dead</b> tuples')).toEqual([
      { text: 'the ', match: false },
      { text: 'vacuum', match: true },
      { text: ' of ', match: false },
      { text: 'dead', match: true },
      { text: ' tuples', match: false },
    ]);
  });

  it('turns escaped markup back into text, never into elements', () => {
    expect(parseSnippet('&lt;script&gt;alert(&quot;<b>x</b>&#39;)&lt;/script&gt; &amp;amp;')).toEqual([
      { text: '<script>alert("', match: false },
      { text: 'x', match: true },
      { text: "')</script> &amp;", match: false },
    ]);
  });
});
