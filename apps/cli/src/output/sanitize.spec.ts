import { InertStream, inert } from './sanitize';

describe('inert', () => {
  it('should keep text, tabs and newlines', () => {
    expect(inert('a\tb\nc ünï 🙂')).toBe('a\tb\nc ünï 🙂');
  });

  it('should drop colour, cursor, title and hyperlink sequences whole', () => {
    const hostile =
      '\x1b[31mred\x1b[0m \x1b[2J\x1b[H\x1b]0;pwned\x07 \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \x1bPq#0\x1b\\done';
    expect(inert(hostile)).toBe('red  link done');
  });

  it('should drop lone control characters, carriage returns and C1 controls', () => {
    expect(inert('a\x1b\x07\x08\rb\x9b2Jc\x7f')).toBe('ab2Jc');
  });

  it('should leave no ESC in a sequence split across two pieces', () => {
    expect(inert('x\x1b') + inert('[2Jy')).toBe('x[2Jy');
  });

  it('should remove a sequence split across pieces whole when the pieces go through one stream', () => {
    const hostile = 'a\x1b]0;pwned\x07b\x1b[31mc\x1b]8;;http://x\x1b\\d\x1b';
    for (const size of [1, 2, 3, 5]) {
      const stream = new InertStream();
      let out = '';
      for (let i = 0; i < hostile.length; i += size) {
        out += stream.push(hostile.slice(i, i + size));
      }
      expect(out + stream.end()).toBe('abcd');
    }
  });
});
