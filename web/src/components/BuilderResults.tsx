// What running a built query answered, shown by the components the rest of the UI shows it with: fanout and totals
// as a chat answer (a lane per database, the combined rows, a chart), compare as the Compare tab's results.
import type { BuildResult } from '../api/types';
import { BuilderAnswer } from './BuilderAnswer';
import { CompareResults } from './CompareResults';

export function BuilderResults({ result, connections }: { result: BuildResult; connections: string[] }) {
  if (result.mode === 'compare') return <CompareResults result={result} />;
  return <BuilderAnswer result={result} connections={connections} />;
}
