// Loading one API answer for a component: its state (loading, error, ready) and a reload. An answer that comes
// back after the component left, or after a newer load began, is dropped, so a slow answer never overwrites a
// newer one. While a reload runs, the answer already shown stays (a list does not blank out and lose what was
// open in it); only the first load shows "loading".
import { useCallback, useEffect, useState } from 'react';

export type Load<T> = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; data: T };

export function useLoad<T>(fetcher: () => Promise<T>, deps: readonly unknown[]): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setLoad((previous) => (previous.state === 'ready' ? previous : { state: 'loading' }));
    fetcher().then(
      (data) => live && setLoad({ state: 'ready', data }),
      (error: unknown) => live && setLoad({ state: 'error', error }),
    );
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return [load, reload];
}
