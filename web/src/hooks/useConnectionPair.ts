// Two connections picked side by side (Compare, Schema diff): the caller's connections, and A and B starting
// as the first two the caller can use, then as the person picks them.
import { useEffect, useState } from 'react';
import * as api from '../api/client';
import type { Connection } from '../api/types';
import { useLoad, type Load } from './useLoad';

export interface ConnectionPair {
  connections: Load<Connection[]>;
  a: string;
  setA: (name: string) => void;
  b: string;
  setB: (name: string) => void;
}

export function useConnectionPair(): ConnectionPair {
  const [connections] = useLoad(api.listConnections, []);
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  useEffect(() => {
    if (connections.state !== 'ready') return;
    const usable = connections.data.filter((c) => c.usable);
    setA((current) => current || usable[0]?.name || '');
    setB((current) => current || usable[1]?.name || '');
  }, [connections]);
  return { connections, a, setA, b, setB };
}
