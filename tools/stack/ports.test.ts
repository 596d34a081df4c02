import { freePorts } from './ports';

describe('free ports', () => {
  it('are distinct within a call and across calls sharing a taken set', async () => {
    const taken = new Set<number>();
    const first = await freePorts(20, taken);
    const second = await freePorts(20, taken);
    const all = [...first, ...second];
    expect(new Set(all).size).toBe(40);
    expect([...taken].sort()).toEqual([...all].sort());
  });
});
