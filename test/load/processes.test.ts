import { describe, expect, it } from 'vitest';
import { scavengesLogged } from '../../load-tests/processes.js';

describe('scavengesLogged', () => {
  const line = JSON.stringify({ level: 30, time: 1, scavengeThreads: { isParallel: false, isFromCommandLine: false, cores: 2 }, msg: 'scavenges run without helper threads (2 cores available, at most 2)' });

  it("reads the start-up line's message among the service's other output, whatever chunks it came in", () => {
    const output = `${JSON.stringify({ level: 30, msg: 'snapshot loaded' })}\nnot json "scavengeThreads"\n${line}\n{"level":30,"msg":"Server listening at http://127.0.0.1:1"}\n`;
    const chunks = [output.slice(0, 70), output.slice(70, 150), output.slice(150)];
    expect(scavengesLogged(chunks)).toBe('scavenges run without helper threads (2 cores available, at most 2)');
  });

  it('says so when the build logged no choice', () => {
    expect(scavengesLogged([`${JSON.stringify({ level: 30, msg: 'Server listening' })}\n`])).toBe('not logged (a build from before the choice)');
    expect(scavengesLogged([line.slice(0, 60)])).toBe('not logged (a build from before the choice)');
  });
});
