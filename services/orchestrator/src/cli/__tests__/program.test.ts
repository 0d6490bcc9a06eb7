import type { Command } from 'commander';
import { createCli } from '../program';

/** Every command under `command`, with its path: `model promote`, `runs trigger`, … */
function commandsOf(command: Command, path: string[] = []): [string, Command][] {
  return command.commands.flatMap((sub) => {
    const at = [...path, sub.name()];
    return [[at.join(' '), sub] as [string, Command], ...commandsOf(sub, at)];
  });
}

describe('the streamtrain CLI', () => {
  const { program } = createCli({}, { out: () => undefined, err: () => undefined });
  const all = commandsOf(program);
  const leaves = all.filter(([, command]) => command.commands.length === 0);

  it('has the commands of issue 10', () => {
    expect(leaves.map(([path]) => path)).toEqual(
      expect.arrayContaining([
        'model list',
        'model show',
        'model promote',
        'model rollback',
        'model pin',
        'model unpin',
        'model audit',
        'model export',
        'model rebuild',
        'runs list',
        'runs show',
        'runs trigger',
        'runs cancel',
        'schedules list',
        'schedules set',
        'schedules remove',
        'warehouse prune',
      ]),
    );
  });

  it.each(all)('`%s --help` prints its usage and a description', async (path, command) => {
    expect(command.description()).not.toBe('');
    let printed = '';
    const cli = createCli({}, { out: () => undefined, err: () => undefined }).program;
    cli.exitOverride();
    for (const [, each] of commandsOf(cli)) {
      each.exitOverride();
      each.configureOutput({ writeOut: (text) => (printed += text) });
    }
    await expect(
      cli.parseAsync(['node', 'streamtrain', ...path.split(' '), '--help']),
    ).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    expect(printed).toContain(`Usage: streamtrain ${path}`);
    // Long descriptions are wrapped to the terminal's width.
    expect(printed.replace(/\s+/g, ' ')).toContain(command.description());
  });

  it.each(leaves)('`%s` has --json for scripts', (_path, command) => {
    expect(command.options.map((option) => option.long)).toContain('--json');
  });
});
