import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { highlight } from './highlight';

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const SAFE_URL = /^(https?:|mailto:)/i;

const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use({
  renderer: {
    // Raw HTML in an answer is shown as text, never interpreted.
    html({ text }) {
      return escapeHtml(text);
    },
    link({ href, title, tokens }) {
      const text = this.parser.parseInline(tokens);
      if (!SAFE_URL.test(href.trim())) {
        return text;
      }
      const t = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(href)}"${t} target="_blank" rel="noopener noreferrer">${text}</a>`;
    },
    // Images would load from anywhere (tracking pixels); the CSP blocks them anyway. Show a link instead.
    image({ href, text }) {
      if (!SAFE_URL.test(href.trim())) {
        return escapeHtml(text);
      }
      return `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${escapeHtml(text || href)}</a>`;
    },
    code({ text, lang }) {
      const language = (lang ?? '').trim().split(/\s+/)[0] ?? '';
      const body = highlight(text, language) ?? escapeHtml(text);
      const label = language
        ? `<span class="code-lang">${escapeHtml(language)}</span>`
        : '<span class="code-lang">text</span>';
      return (
        `<div class="code-block"><div class="code-head">${label}` +
        '<button type="button" class="copy-code" data-copy-code aria-label="Copy code">Copy</button></div>' +
        `<pre tabindex="0"><code class="hljs">${body}</code></pre></div>`
      );
    },
  },
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    const href = node.getAttribute('href') ?? '';
    if (!SAFE_URL.test(href)) {
      node.removeAttribute('href');
    }
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

const PURIFY = {
  ADD_ATTR: ['target'],
  FORBID_TAGS: ['style', 'form', 'input', 'textarea', 'select', 'img', 'svg', 'math', 'iframe'],
  FORBID_ATTR: ['style'],
};

/** One Markdown block to safe HTML: parsed, raw HTML escaped, then sanitized (a second line of defence). */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown) as string;
  return DOMPurify.sanitize(html, PURIFY);
}
