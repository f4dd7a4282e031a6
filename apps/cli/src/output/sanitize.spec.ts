import { inert } from './sanitize';

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
});
