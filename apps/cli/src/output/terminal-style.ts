/** Whether a stream gets Markdown and colour: a terminal, and `NO_COLOR` unset (https://no-color.org). */
export function isRich(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** The few styles the CLI's own chrome uses (prompts, notes); plain text when the stream is not rich. */
export function styles(rich: boolean) {
  const sgr = (open: number, close: number) => (text: string) => (rich ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  return { bold: sgr(1, 22), dim: sgr(2, 22), cyan: sgr(36, 39), red: sgr(31, 39), yellow: sgr(33, 39) };
}

export type Styles = ReturnType<typeof styles>;
