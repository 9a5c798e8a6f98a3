/**
 * wrapText breaks text into lines of at most `width` characters at spaces; a word longer than the
 * width is cut into pieces rather than truncated, so nothing a tool said is lost. Always returns
 * at least one line.
 */
export function wrapText(text: string, width: number): string[] {
  const max = Math.max(1, width);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (word === '') continue;
    if (line !== '' && line.length + 1 + word.length <= max) {
      line += ' ' + word;
      continue;
    }
    if (line !== '') lines.push(line);
    let rest = word;
    while (rest.length > max) {
      lines.push(rest.slice(0, max));
      rest = rest.slice(max);
    }
    line = rest;
  }
  lines.push(line);
  return lines;
}

/**
 * wrapToken breaks a name without spaces (a point id `host:bpf1/lxcda6f5295b4b7`, a file name)
 * after one of `/ : - _ . @` when it does not fit, and inside a piece only when that piece alone
 * is wider than the column.
 */
export function wrapToken(token: string, width: number): string[] {
  const max = Math.max(1, width);
  if (token.length <= max) return [token];
  const lines: string[] = [];
  let line = '';
  for (const piece of token.split(/(?<=[/:\-_.@])/)) {
    if (line.length + piece.length <= max) {
      line += piece;
      continue;
    }
    if (line !== '') lines.push(line);
    line = piece;
    while (line.length > max) {
      lines.push(line.slice(0, max));
      line = line.slice(max);
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
