// marked-terminal ships no types (the DefinitelyTyped ones pin marked < 12); this is the part the CLI uses.
declare module 'marked-terminal' {
  import type { MarkedExtension } from 'marked';

  export interface TerminalRendererOptions {
    width?: number;
    reflowText?: boolean;
    emoji?: boolean;
    tab?: number | string;
    showSectionPrefix?: boolean;
  }

  export function markedTerminal(options?: TerminalRendererOptions, highlightOptions?: object): MarkedExtension;
}
