#!/usr/bin/env node
// The command line: cli-options.ts reads the words into checked options, supervise() does the work.
// The full yargs (15 MB and tens of milliseconds to load) is loaded only for --help and for the
// status, stop and restart subcommands; a plain run reads its words with yargs-parser alone.
import { readCommandLine } from './cli-options.js';
import { supervise } from './index.js';
import { holdSignals } from './tree/signals.js';
import { colorLevel, createLogger } from './log.js';
import { logSupervisor } from './log-words.js';
import { UsageError } from './options.js';

/**
 * First words that name a command acting on a running instance; `keepalive -- status` runs a
 * program.
 */
const CONTROL_WORDS = new Set(['status', 'stop', 'restart']);

/**
 * stdout, made (a stream object, a tty's module) only by the commands that print on it: a run never
 * does.
 */
function out(text: string): void {
  if (process.stdout.listenerCount('error') === 0) process.stdout.on('error', () => {});
  process.stdout.write(text);
}

async function main(): Promise<number> {
  // A reader that went away (a closed pipe, a hung-up terminal) must not crash keepalive mid-stop.
  process.stderr.on('error', () => {});
  const argv = process.argv.slice(2);
  if (CONTROL_WORDS.has(argv[0] ?? '')) {
    const { parseControlCommand, runControl } = await import('./guardian/control.js');
    const control = parseControlCommand(argv);
    if (control) return runControl(control, { out, err: (text) => process.stderr.write(text) });
  }
  const settings = readCommandLine(argv);
  if (settings.kind === 'help') {
    const page = (await import('./cli-help.js')).helpPage(process.stdout.columns);
    out(page);
    return 0;
  }
  if (settings.kind === 'version') {
    out(`${(await import('./package-facts.js')).packageFacts().version}\n`);
    return 0;
  }
  // A set (-c FILE, --procfile FILE): its code, and the YAML parser, load only for it.
  if (settings.kind === 'set') return (await import('./cli-set.js')).runSet(settings, out);
  // The cron guardian's code (pidfile, detach, log file) is loaded only when it is asked for.
  const needsGuardian =
    settings.pidfile !== undefined || settings.logFile !== undefined || settings.detach;
  const guardian = needsGuardian ? await import('./guardian/claim.js') : undefined;
  if (guardian && settings.detach && !guardian.isBackground())
    return guardian.detach(argv, settings);
  const log = await createLogger({
    format: settings.logFormat,
    level: settings.logLevel,
    colorLevel: settings.logFile === undefined ? colorLevel(process.env, process.stderr) : 0,
    write: guardian
      ? guardian.logWriter(settings.logFile, settings.logFileShared)
      : (line) => process.stderr.write(line),
  });
  const instance =
    guardian && settings.pidfile !== undefined
      ? await guardian.claim(settings, settings.pidfile, log)
      : undefined;
  if (typeof instance === 'number') return instance;
  // Listen before the first tick, when the supervisor starts the child.
  // From here to process.exit, no signal can end keepalive by its default action (see signals.ts).
  holdSignals();
  const supervisor = supervise(settings.supervise);
  logSupervisor(supervisor, log);
  instance?.attach(supervisor);
  guardian?.reportFirstStart(supervisor);
  const { status } = await supervisor.done;
  instance?.release();
  await guardian?.foregroundTold();
  return status;
}

main().then(
  (status) => process.exit(status),
  async (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`keepalive: ${error.message}\n`);
      process.exit(error.exitStatus);
    }
    const { InstanceError } = await import('./guardian/instance-files.js');
    // A refused --output FILE, said as a refused --log-file is.
    const refusedOutput = error instanceof Error && error.name === 'OutputFileError';
    if (error instanceof InstanceError || refusedOutput) {
      process.stderr.write(`keepalive: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(
      `keepalive: internal error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    if (process.env['KEEPALIVE_DEBUG']) process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(70);
  },
);
