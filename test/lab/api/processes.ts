/**
 * Every command exec starts runs in its own process group, recorded against its pod. Deleting the
 * pod (or its deadline, or the server stopping) kills the groups, as a container runtime kills
 * what runs in a container's PID namespace. Records carry the leader's start time so `lab down`
 * can kill what a crashed server left without hitting a recycled pid.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessRecord {
  /** namespace/name of the pod whose exec started it. */
  pod: string;
  pgid: number;
  /** Start time of the group leader in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTime: number;
  argv: string[];
}

/** Field 22 (starttime) and field 5 (pgrp) of /proc/<pid>/stat; undefined when the process is gone. */
function procStat(pid: number): { pgrp: number; startTime: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: fields resume after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pgrp: Number(fields[2]), startTime: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/** Pids still in a recorded group that started no earlier than its leader (so not a recycled group id). */
export function livingMembers(record: Pick<ProcessRecord, 'pgid' | 'startTime'>): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.pgrp === record.pgid && stat.startTime >= record.startTime) members.push(Number(entry));
  }
  return members;
}

/** Sends a signal to every living member of a recorded group; returns how many were signalled. */
export function signalRecordedGroup(record: Pick<ProcessRecord, 'pgid' | 'startTime'>, signal: NodeJS.Signals): number {
  let signalled = 0;
  for (const pid of livingMembers(record)) {
    try {
      process.kill(pid, signal);
      signalled++;
    } catch {
      // already gone
    }
  }
  return signalled;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export class ProcessGroups {
  private readonly records = new Map<number, ProcessRecord>();

  /** onChange lets the owner persist the records (pods.json) whenever they change. */
  constructor(private readonly onChange: () => void) {}

  /** Starts a command as the leader of a new process group recorded against the pod. */
  spawn(pod: string, file: string, args: string[], options: SpawnOptions): ChildProcess {
    const child = spawn(file, args, { ...options, detached: true });
    const pid = child.pid;
    if (pid === undefined) return child; // spawn failed; the 'error' event tells the caller
    const record: ProcessRecord = { pod, pgid: pid, startTime: procStat(pid)?.startTime ?? 0, argv: [file, ...args] };
    this.records.set(pid, record);
    this.onChange();
    child.once('exit', () => {
      // Background jobs of the command keep the group alive; keep the record until they end too.
      if (!groupAlive(pid)) this.forget(pid);
    });
    return child;
  }

  private forget(pgid: number): void {
    if (this.records.delete(pgid)) this.onChange();
  }

  /** Signals one group (the exec whose client went away). */
  signalGroup(pgid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pgid, signal);
    } catch {
      this.forget(pgid);
    }
  }

  /** Kills every group the pod's execs started. */
  killPod(pod: string): void {
    for (const record of [...this.records.values()]) {
      if (record.pod !== pod) continue;
      this.signalGroup(record.pgid, 'SIGKILL');
      this.forget(record.pgid);
    }
  }

  killAll(): void {
    for (const record of [...this.records.values()]) {
      this.signalGroup(record.pgid, 'SIGKILL');
      this.forget(record.pgid);
    }
  }

  list(): ProcessRecord[] {
    return [...this.records.values()];
  }

  /** How many groups a pod's execs have running. */
  count(pod: string): number {
    return [...this.records.values()].filter((r) => r.pod === pod).length;
  }
}
