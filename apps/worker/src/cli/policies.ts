import type { TRetentionChange, TSetRetentionPolicyInput } from '@threadstore/contract';
import { ZRetentionScope, ZRetentionTarget } from '@threadstore/contract';
import type { MikroORM } from '@threadstore/db';
import { listRetentionPolicies, removeRetentionPolicy, setRetentionPolicy } from '@threadstore/domain';
import type { Logger } from '@threadstore/runtime';
import type { PgBoss } from 'pg-boss';
import type { JobContract } from '../jobs/contract.ts';
import { runJobHere, UsageError } from './run-job.ts';

/** How the CLI's changes are named in the audit log. */
const CLI_ACTOR = { system: 'jobs-cli' } as const;

export const POLICY_USAGE = [
  'jobs policies [--scope global|user|project] [--user <id>] [--project <id>] [--holds]',
  'jobs policy set --scope <scope> [--user <id>|--project <id>] --target <target> --keep-days <n> [--note <text>]',
  'jobs policy remove <id> | jobs policy remove --scope <scope> [--user <id>|--project <id>] --target <target>',
  'jobs policy preview --scope <scope> [--user <id>|--project <id>] --target <target> (--keep-days <n> | --remove | --hold)',
  'jobs hold place (--user <id> | --project <id>) [--note <text>]',
  'jobs hold lift <id>',
].join('\n');

export interface PolicyCommand {
  orm: MikroORM;
  boss: PgBoss;
  logger: Logger;
  jobs: readonly JobContract[];
  command: 'policies' | 'policy' | 'hold';
  args: string[];
  values: Record<string, string | boolean | undefined>;
  print: (line: string) => void;
  printTable: (rows: Record<string, string | number>[]) => void;
}

/** `jobs policies`, `jobs policy …` and `jobs hold …`: retention policies and legal holds as data. */
export async function runPolicyCommand(options: PolicyCommand): Promise<number> {
  const { orm, command, args, values, print } = options;
  const em = orm.em.fork();
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const subject = () => {
    const scope = ZRetentionScope.safeParse(
      text('scope') ?? (text('user') ? 'user' : text('project') ? 'project' : 'global'),
    );
    if (!scope.success) throw new UsageError('--scope must be global, user or project');
    return { scope: scope.data, userId: text('user'), projectId: text('project') };
  };
  const target = () => {
    const parsed = ZRetentionTarget.safeParse(text('target'));
    if (!parsed.success) throw new UsageError(`--target must be one of ${ZRetentionTarget.options.join(', ')}`);
    return parsed.data;
  };
  const keepDays = () => {
    const days = Number(text('keep-days'));
    if (!Number.isInteger(days) || days < 1)
      throw new UsageError('--keep-days must be a whole number of days, 1 or more');
    return days;
  };
  const show = (policies: Awaited<ReturnType<typeof listRetentionPolicies>>) =>
    options.printTable(
      policies.map((policy) => ({
        id: policy.id,
        scope: policy.scope,
        subject: policy.userId ?? policy.projectId ?? '-',
        target: policy.target,
        rule: policy.legalHold ? 'LEGAL HOLD' : `${policy.keepForDays} days`,
        note: policy.note ?? '',
      })),
    );

  if (command === 'policies') {
    const { scope, userId, projectId } = subject();
    show(
      await listRetentionPolicies(em, {
        ...(text('scope') ? { scope } : {}),
        ...(userId ? { userId } : {}),
        ...(projectId ? { projectId } : {}),
        ...(values.holds === true ? { legalHold: true } : {}),
      }),
    );
    return 0;
  }
  const [verb, id] = args;
  if (command === 'hold') {
    if (verb === 'place') {
      const { scope, userId, projectId } = subject();
      if (scope === 'global') throw new UsageError('a legal hold is for --user <id> or --project <id>');
      const input: TSetRetentionPolicyInput = {
        scope,
        userId,
        projectId,
        target: 'all',
        legalHold: true,
        note: text('note'),
      };
      show([await setRetentionPolicy(em, CLI_ACTOR, input)]);
      return 0;
    }
    if (verb === 'lift' && id !== undefined) {
      print(`lifted: ${(await removeRetentionPolicy(em, CLI_ACTOR, id)).id}`);
      return 0;
    }
    throw new UsageError(POLICY_USAGE);
  }
  if (verb === 'set') {
    show([
      await setRetentionPolicy(em, CLI_ACTOR, {
        ...subject(),
        target: target(),
        keepForDays: keepDays(),
        note: text('note'),
      }),
    ]);
    return 0;
  }
  if (verb === 'remove') {
    let policyId = id;
    if (policyId === undefined) {
      const { scope, userId, projectId } = subject();
      const wanted = target();
      const found = (await listRetentionPolicies(em, { scope, userId, projectId })).find(
        (policy) =>
          policy.target === wanted &&
          (policy.userId ?? undefined) === userId &&
          (policy.projectId ?? undefined) === projectId,
      );
      if (found === undefined) throw new UsageError('no such policy');
      policyId = found.id;
    }
    print(`removed: ${(await removeRetentionPolicy(em, CLI_ACTOR, policyId)).id}`);
    return 0;
  }
  if (verb === 'preview') {
    const base = { ...subject(), target: target() };
    const change: TRetentionChange =
      values.remove === true
        ? { action: 'remove', ...base }
        : values.hold === true
          ? { action: 'set', ...base, target: 'all', legalHold: true }
          : { action: 'set', ...base, keepForDays: keepDays() };
    return runJobHere({
      boss: options.boss,
      orm,
      logger: options.logger,
      jobs: options.jobs,
      name: 'retention',
      dryRun: true,
      payload: JSON.stringify({ preview: [change] }),
      print,
    });
  }
  throw new UsageError(POLICY_USAGE);
}
