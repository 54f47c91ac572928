// Which lines of two texts differ: the longest common subsequence of their lines (the classic table; schema
// definitions are tens of lines, so its quadratic size does not matter, and past 2,000 lines every line is
// simply compared with the line at the same place).
export type DiffLine = { text: string; changed: boolean };

export function lineDiff(a: string, b: string): { a: DiffLine[]; b: DiffLine[] } {
  const left = a.split('\n');
  const right = b.split('\n');
  if (left.length * right.length > 4_000_000) {
    return {
      a: left.map((text, i) => ({ text, changed: right[i] !== text })),
      b: right.map((text, i) => ({ text, changed: left[i] !== text })),
    };
  }
  const n = left.length, m = right.length;
  const table: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      table[i]![j] = left[i] === right[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
  const keptA = new Array<boolean>(n).fill(false), keptB = new Array<boolean>(m).fill(false);
  for (let i = 0, j = 0; i < n && j < m;) {
    if (left[i] === right[j]) { keptA[i++] = true; keptB[j++] = true; }
    else if (table[i + 1]![j]! >= table[i]![j + 1]!) i++;
    else j++;
  }
  return {
    a: left.map((text, i) => ({ text, changed: !keptA[i] })),
    b: right.map((text, i) => ({ text, changed: !keptB[i] })),
  };
}
