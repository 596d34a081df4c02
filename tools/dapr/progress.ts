import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export const say = (message: string, label = 'dapr') => console.log(`[${label}] ${message}`);

export function elapsed(since: number): string {
  const s = Math.round((Date.now() - since) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Runs a command to completion and returns its stdout; throws with stderr on a non-zero exit. */
export function capture(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => (clearTimeout(timer), reject(e)));
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `${cmd} ${args.join(' ')} exited with ${code}: ${(err || out).trim().split('\n').slice(-5).join('\n')}`,
          ),
        );
    });
  });
}

/**
 * Runs a long step with its full output in `logFile`, printing one progress line every few seconds:
 * the step, the elapsed time, the last line of output (e.g. the package being compiled) and the log.
 */
export function runStep(
  step: string,
  cmd: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; everyMs?: number; label?: string },
): Promise<void> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  log.write(`\n### ${new Date().toISOString()} ${step}: ${cmd} ${args.join(' ')}\n`);
  const started = Date.now();
  let lastLine = '';
  let lines = 0;
  const report = (message: string) => say(message, options.label);
  report(`${step}: started (full log: ${options.logFile})`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      log.write(d);
      const text = d.toString().trim();
      if (text) {
        const all = text.split('\n');
        lines += all.length;
        lastLine = (all.at(-1) ?? '').slice(0, 100);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const ticker = setInterval(
      () =>
        report(
          `${step}: ${elapsed(started)} elapsed, ${lines} lines of output${lastLine ? `, last: ${lastLine}` : ''}`,
        ),
      options.everyMs ?? 15_000,
    );
    child.on('error', (e) => {
      clearInterval(ticker);
      log.end();
      reject(e);
    });
    child.on('close', (code) => {
      clearInterval(ticker);
      log.end();
      if (code === 0) {
        report(`${step}: done in ${elapsed(started)}`);
        resolve();
      } else
        reject(
          new Error(
            `${step} failed (exit ${code}) after ${elapsed(started)}; last output: ${lastLine}; full log: ${options.logFile}`,
          ),
        );
    });
  });
}
