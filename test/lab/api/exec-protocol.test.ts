import { exitStatus, parseExecOptions, pickProtocol, V4, V5 } from './exec-session.js';

describe('exec options', () => {
  it('reads kubectl 1.32 queries: false booleans omitted, command repeated', () => {
    const o = parseExecOptions(new URLSearchParams('command=ls&command=%2F&container=main&stderr=true&stdout=true'));
    expect(o).toEqual({ command: ['ls', '/'], container: 'main', stdin: false, stdout: true, stderr: true, tty: false });
  });

  it('reads client-node queries, where every boolean is present', () => {
    const o = parseExecOptions(new URLSearchParams('stdout=true&stderr=true&stdin=false&tty=false&command=ls&container=main'));
    expect(o).toMatchObject({ stdin: false, stdout: true, stderr: true, tty: false });
  });

  it('treats "0"/"false" as false and anything else, even empty, as true (apimachinery)', () => {
    const o = parseExecOptions(new URLSearchParams('command=x&stdout=&stderr=0&stdin=FALSE&tty=1'));
    expect(o).toMatchObject({ stdout: true, stderr: false, stdin: false, tty: true });
  });

  it('requires a command and a stream', () => {
    expect(() => parseExecOptions(new URLSearchParams('stdout=true'))).toThrow('you must specify at least 1 command');
    expect(() => parseExecOptions(new URLSearchParams('command=ls'))).toThrow('you must specify at least 1 of stdin, stdout, stderr');
  });
});

describe('subprotocol', () => {
  it('prefers v5, accepts v4, refuses the rest', () => {
    expect(pickProtocol('v5.channel.k8s.io')).toBe(V5);
    expect(pickProtocol('v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io')).toBe(V5);
    expect(pickProtocol('v4.channel.k8s.io, v3.channel.k8s.io')).toBe(V4);
    expect(pickProtocol('v3.channel.k8s.io,channel.k8s.io')).toBeUndefined();
    expect(pickProtocol(undefined)).toBeUndefined();
  });
});

describe('exit status frame', () => {
  it('is the JSON the apiserver writes on channel 3 (notes/protocols.md §1.4)', () => {
    expect(JSON.stringify(exitStatus(0))).toBe('{"metadata":{},"status":"Success"}');
    expect(JSON.stringify(exitStatus(3))).toBe(
      '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: command terminated with exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
    );
  });
});
