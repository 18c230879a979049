// keepalive -c FILE / --procfile FILE: the set's file read and checked whole before anything
// starts (a problem is one line and status 2), then --check prints the start order, or the set
// runs.
import type { SetSettings } from './cli-options.js';
import { superviseSet } from './index.js';
import { colorLevel, createLogger } from './log.js';
import { logSet } from './log-words.js';
import { loadSet } from './set/load.js';
import { startOrderLines } from './set/start-words.js';
import { holdSignals } from './tree/signals.js';

export async function runSet(settings: SetSettings, out: (text: string) => void): Promise<number> {
  const set = await loadSet(settings.source, {
    flags: settings.flags,
    env: process.env,
    subreaper: settings.subreaper,
  });
  if (settings.check) {
    out(
      startOrderLines(set)
        .map((line) => `${line}\n`)
        .join(''),
    );
    return 0;
  }
  // Output files: made and checked before anything starts (and before --detach returns).
  if (set.processes.some((entry) => entry.output !== undefined))
    await (await import('./set/output-dir.js')).prepareOutputFiles(set);
  // The guardian for a set (one keepalive for FILE, in the background) comes with its own code.
  const guardian =
    settings.pidfile !== undefined || settings.detach || settings.logFile !== undefined
      ? await import('./guardian/claim.js')
      : undefined;
  const guarding = guardian?.setGuardianSettings(set, settings.source.file, settings);
  if (guardian && guarding && settings.detach && !guardian.isBackground())
    return guardian.detach(process.argv.slice(2), guarding);
  const log = await createLogger({
    format: settings.logFormat,
    level: settings.logLevel,
    colorLevel: settings.logFile === undefined ? colorLevel(process.env, process.stderr) : 0,
    write: guardian
      ? guardian.logWriter(settings.logFile, settings.logFileShared)
      : (line) => process.stderr.write(line),
  });
  const instance =
    guardian && guarding && settings.pidfile !== undefined
      ? await guardian.claim(guarding, settings.pidfile, log)
      : undefined;
  if (typeof instance === 'number') return instance;
  holdSignals();
  const { prefixedOutput } = await import('./output/prefixed.js');
  const output = await prefixedOutput({ names: set.processes.map((process) => process.name) });
  const processes = superviseSet({ ...set, handleSignals: true, output });
  // The set says its processes' events as one supervisor does, each naming its process.
  logSet(processes, log);
  instance?.attach(processes, (name) => processes.rotate(name));
  guardian?.reportFirstStart(processes);
  const { status } = await processes.done;
  instance?.release();
  // The last lines of a pipe are written asynchronously: all of them before keepalive exits.
  await output.written();
  await guardian?.foregroundTold();
  return status;
}
