import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import {
  createTestSchema,
  createTestTopics,
  freePort,
  removeTestExchange,
  testServers,
  uniqueExchange,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import type { TestSchema, TestTopics } from '@streamtrain/testkit';
import { REPO_ROOT, startStack, stopService, stopStack } from './stack';
import type { RunningService } from './stack';

jest.setTimeout(300_000);

const DAY_MS = 86_400_000;
const START_MS = Date.parse('2018-04-01T00:00:00Z');
const TOKEN = 'e2e-console-token-0123456789';
const NODE_TIMEOUT_WARNING =
  /^\(node:\d+\) TimeoutNegativeWarning: -\d+ is a negative number\.\nTimeout duration was set to 1\.\n\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n/gm;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** `count` transactions from `first` on, 150 customers, every 40th fraud and labelled 2 days later. */
function feed(first: number, count: number, days: number): { tx: string[]; labels: string[] } {
  const tx: string[] = [];
  const labels: string[] = [];
  for (let i = first; i < first + count; i += 1) {
    const customer = `c${i % 150}`;
    const fraud = i % 40 === 0;
    const eventTime = new Date(START_MS + Math.floor((i / count) * days * DAY_MS)).toISOString();
    const value = {
      schemaVersion: 1,
      transactionId: `console-${i}`,
      customerId: customer,
      terminalId: `m${i % 97}`,
      amount: fraud ? 300 + (i % 50) : 10 + (i % 70),
      eventTime,
      channel: 'web',
    };
    tx.push(`${customer}|${JSON.stringify(value)}`);
    if (fraud) {
      const reportedAt = new Date(Date.parse(eventTime) + 2 * DAY_MS).toISOString();
      labels.push(
        `${customer}|${JSON.stringify({ schemaVersion: 1, transactionId: value.transactionId, isFraud: true, reportedAt })}`,
      );
    }
  }
  return { tx, labels };
}

function kcatProduce(topic: string, lines: readonly string[]): void {
  execFileSync('kcat', ['-P', '-b', testServers().kafkaBrokers.join(','), '-t', topic, '-K', '|'], {
    input: `${lines.join('\n')}\n`,
  });
}

/** Metric names a PromQL expression refers to (identifiers followed by `{`, `[`, `)` or an operator). */
function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '');
  const withoutGrouping = withoutStrings.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
    '',
  );
  const names = new Set<string>();
  for (const match of withoutGrouping.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const after = withoutGrouping.slice((match.index ?? 0) + word.length).trimStart();
    if (after.startsWith('(')) continue; // a function (rate, sum, topk, …)
    if (/^(and|or|unless|bool|offset|by|without|on|ignoring|inf|nan)$/i.test(word)) continue;
    if (!/_/.test(word)) continue; // every metric name here has an underscore; selectors are gone
    names.add(word);
  }
  return [...names];
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(
    readFileSync(
      path.join(REPO_ROOT, 'infra', 'grafana', 'dashboards', 'streamtrain.json'),
      'utf8',
    ),
  ) as { panels: { targets?: { expr: string }[]; panels?: { targets?: { expr: string }[] }[] }[] };
  const exprs: string[] = [];
  const visit = (panels: typeof dashboard.panels): void => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) exprs.push(target.expr);
      if (panel.panels) visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return exprs;
}

function alertExpressions(): string[] {
  const text = readFileSync(path.join(REPO_ROOT, 'infra', 'prometheus', 'alerts.yml'), 'utf8');
  return [
    ...text.matchAll(/^\s+expr:\s*(?:\|\s*\n)?([\s\S]*?)(?=^\s+(?:for|labels|annotations):)/gm),
  ].map((match) => (match[1] ?? '').trim());
}

/** Top-level keys of a JSON object line, duplicates kept (JSON.parse would drop them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i];
    if (char === '"') {
      let end = i + 1;
      while (line[end] !== '"') end += line[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(line.slice(i, end + 1)) as string);
      expectKey = false;
      i = end;
    } else if (char === '{' || char === '[') {
      depth += 1;
      expectKey = char === '{' && depth === 1;
    } else if (char === '}' || char === ']') {
      depth -= 1;
    } else if (char === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

/** Strips the series' own suffixes so a histogram's `_bucket` names its family. */
function scrapedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (name !== undefined) names.add(name);
  }
  return names;
}

describe('the operators console against the running loop', () => {
  let schema: TestSchema;
  let topics: TestTopics;
  let exchange: string;
  let group: string;
  let services: RunningService[] = [];
  let consoleProcess: ChildProcess | undefined;
  let consoleExited: Promise<number | null> | undefined;
  let consolePort = 0;
  let browser: Browser | undefined;
  let page: Page;
  let logDir = '';

  const base = (): string => `http://127.0.0.1:${consolePort}`;
  const service = (name: string): RunningService => {
    const found = services.find((candidate) => candidate.name === name);
    if (found === undefined) throw new Error(`no ${name}`);
    return found;
  };

  beforeAll(async () => {
    schema = createTestSchema();
    logDir = path.join(REPO_ROOT, '.local', 'e2e', 'console', schema.schema);
    topics = await createTestTopics(['tx.web', 'tx.labels', 'tx.dlq']);
    exchange = uniqueExchange();
    group = uniqueName('console');
    const servers = testServers();
    const ports = {
      ingest: await freePort(),
      pipeline: await freePort(),
      trainer: await freePort(),
    };
    services = await startStack(
      {
        env: {
          AMQP_URL: servers.amqpUrl,
          AMQP_EXCHANGE: exchange,
          DATABASE_URL: servers.databaseUrl,
          WAREHOUSE_SCHEMA: schema.schema,
          KAFKA_BROKERS: servers.kafkaBrokers.join(','),
          LOG_LEVEL: 'info',
        },
        serviceEnv: {
          ingest: {
            INGEST_TOPICS: topics.names['tx.web'] as string,
            INGEST_LABELS_TOPIC: topics.names['tx.labels'] as string,
            INGEST_DEAD_LETTER_TOPIC: topics.names['tx.dlq'] as string,
            INGEST_GROUP_ID: group,
          },
          pipeline: { PIPELINE_MATURITY_DAYS: '3' },
          trainer: {
            TRAINER_API_TOKEN: 'e2e-trainer-token-0123456789',
            TRAINER_GATE_MIN_EXAMPLES: '20',
            TRAINER_GATE_MIN_POSITIVES: '1',
            TRAINER_MIN_EXAMPLES: '500',
          },
        },
        ports,
        logDir,
      },
      // The console is checked against the training loop; the scorer is covered by loop.e2e.
      ['ingest', 'pipeline', 'trainer'],
    );
    consolePort = await freePort();
    mkdirSync(logDir, { recursive: true });
    const log = createWriteStream(path.join(logDir, 'console.log'), { flags: 'a' });
    consoleProcess = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'services', 'console', 'dist', 'main.js')],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          HTTP_PORT: String(consolePort),
          DATABASE_URL: servers.databaseUrl,
          WAREHOUSE_SCHEMA: schema.schema,
          KAFKA_BROKERS: servers.kafkaBrokers.join(','),
          CONSOLE_TOKEN: TOKEN,
          CONSOLE_CLUSTER_NAME: 'e2e',
          CONSOLE_LAG_GROUPS: group,
          CONSOLE_LAG_POLL_MS: '500',
          CONSOLE_REFRESH_MS: '500',
          CONSOLE_DLQ_TOPIC: topics.names['tx.dlq'] as string,
          CONSOLE_SERVICES: `ingest=http://127.0.0.1:${ports.ingest},pipeline=http://127.0.0.1:${ports.pipeline},trainer=http://127.0.0.1:${ports.trainer}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    consoleProcess.stdout?.pipe(log);
    consoleProcess.stderr?.pipe(log);
    const child = consoleProcess;
    consoleExited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor(
      () =>
        fetch(`${base()}/readyz`)
          .then((response) => response.status)
          .catch(() => 0),
      (status) => status === 200,
      { timeoutMs: 30_000, description: 'console ready' },
    );

    const { tx, labels } = feed(0, 3_000, 20);
    kcatProduce(topics.names['tx.web'] as string, [
      ...tx,
      'c1|{not json',
      'c2|{"schemaVersion":1}',
    ]);
    kcatProduce(topics.names['tx.labels'] as string, labels);
    await waitFor(
      () =>
        schema.pool
          .query<{ n: string }>(`SELECT count(*) AS n FROM model_versions`)
          .then((result) => Number(result.rows[0]?.n)),
      (n) => n > 0,
      { timeoutMs: 150_000, description: 'a model version' },
    );

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base())) outside.push(request.url());
    });
    await page.goto(`${base()}/?token=${TOKEN}`);
    expect(outside).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    if (consoleProcess && consoleProcess.exitCode === null) consoleProcess.kill('SIGTERM');
    const consoleCode = await consoleExited;
    const codes = await stopStack(services);
    await topics.remove();
    await removeTestExchange(exchange);
    await schema.drop();
    expect(consoleCode).toBe(0);
    expect(codes.every((code) => code === 0)).toBe(true);
  });

  const stateOf = (name: string): Promise<string | null> =>
    page.getAttribute(`[data-testid="service-${name}"]`, 'data-state');
  const pageLag = async (): Promise<number> => {
    const rows = page.locator('[data-testid="lag-row"]');
    let sum = 0;
    for (let i = 0; i < (await rows.count()); i += 1) {
      sum += Number(await rows.nth(i).getAttribute('data-lag'));
    }
    return sum;
  };

  it('when the loop runs, then the page shows healthy services, real lag rows and the registry chart, with no token in the address bar', async () => {
    expect(new URL(page.url()).search).toBe('');
    await waitFor(
      async () => Promise.all(['ingest', 'pipeline', 'trainer'].map(stateOf)),
      (states) => states.every((state) => state === 'up'),
      { timeoutMs: 20_000, description: 'every service up on the page' },
    );
    const lagRows = await waitFor(
      () => page.$$('[data-testid="lag-row"]'),
      (rows) => rows.length >= 2,
      { timeoutMs: 20_000, description: 'lag rows for the transaction and label partitions' },
    );
    expect(lagRows.length).toBeGreaterThanOrEqual(2);
    await waitFor(
      () => page.$$('[data-testid="version-row"]'),
      (rows) => rows.length > 0,
      { timeoutMs: 20_000, description: 'registry versions on the page' },
    );
    const champion = await page.textContent('[data-testid="summary-champion"] dd');
    expect(champion).toMatch(/^v\d+$/);
    expect(await page.$$('#registry-chart canvas')).toHaveLength(1);
    expect(await page.$$('#lag-chart canvas')).toHaveLength(1);
    const apCells = await page
      .locator('[data-testid="version-row"] td:nth-child(5)')
      .allTextContents();
    expect(apCells.length).toBeGreaterThan(0);
    // A version whose holdout had one class has no AP and shows a dash; every other cell is a number.
    expect(apCells.every((text) => /^([01]\.\d{3}|—)$/.test(text))).toBe(true);
    expect(apCells.some((text) => /^[01]\.\d{3}$/.test(text))).toBe(true);
    expect(await page.textContent('#runs-body')).toMatch(/no orchestrator runs/);
    // Each of the two bad messages counted once, however often the page refreshed.
    const reasons = await page.locator('#dlq-body h3').allTextContents();
    expect(reasons.sort()).toEqual(['CONTRACT_INVALID_JSON: 1', 'CONTRACT_SCHEMA_MISMATCH: 1']);

    mkdirSync(path.join(REPO_ROOT, '.local', 'e2e'), { recursive: true });
    const shot = process.env.UPDATE_SCREENSHOT
      ? path.join(REPO_ROOT, 'docs', 'console.png')
      : path.join(REPO_ROOT, '.local', 'e2e', 'console.png');
    await page.screenshot({ path: shot, fullPage: true });
  });

  it('when the API is asked without the token, then it refuses; with it, it answers the same data', async () => {
    expect((await fetch(`${base()}/api/snapshot`)).status).toBe(401);
    expect((await fetch(`${base()}/`)).status).toBe(401);
    const response = await fetch(`${base()}/api/snapshot`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { lag: { groups: { group: string }[] } };
    expect(body.lag.groups.map((entry) => entry.group)).toEqual([group]);
  });

  it('every /metrics passes promtool, and every metric the dashboard and the alert rules query is scraped', async () => {
    const urls = [
      ...services.map((running) => `http://127.0.0.1:${running.port}/metrics`),
      `${base()}/metrics`,
    ];
    const scraped = new Set<string>();
    for (const url of urls) {
      const text = await (await fetch(url)).text();
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect({ url, status: check.status, output: `${check.stdout}${check.stderr}` }).toEqual({
        url,
        status: 0,
        output: '',
      });
      for (const name of scrapedNames(text)) scraped.add(name);
    }
    const wanted = [...dashboardExpressions(), ...alertExpressions()].flatMap(metricNamesIn);
    expect(wanted.length).toBeGreaterThan(20);
    expect([...new Set(wanted)].filter((name) => !scraped.has(name))).toEqual([]);
  });

  it('every log line of every service is one JSON object with service, pid and hostname, and no key twice', () => {
    const files = ['ingest', 'pipeline', 'trainer', 'console'].map((name) =>
      path.join(logDir, `${name}.log`),
    );
    let lines = 0;
    for (const file of files) {
      // Node 24 prints kafkajs's one TimeoutNegativeWarning per process on stderr (kafkajs#1751,
      // docs/DEPENDENCIES.md): Node's own three lines, not a log line of the service.
      const text = readFileSync(file, 'utf8').replace(NODE_TIMEOUT_WARNING, '');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        lines += 1;
        const keys = topLevelKeys(line);
        expect({ file, duplicates: keys.filter((key, i) => keys.indexOf(key) !== i) }).toEqual({
          file,
          duplicates: [],
        });
        expect(JSON.parse(line)).toMatchObject({
          service: expect.any(String) as string,
          pid: expect.any(Number) as number,
          hostname: expect.any(String) as string,
        });
      }
    }
    expect(lines).toBeGreaterThan(20);
  });

  it('when the pipeline stops, then its health goes red and its backlog grows on the page', async () => {
    await stopService(service('pipeline'));
    await waitFor(
      () => stateOf('pipeline'),
      (state) => state === 'down',
      {
        timeoutMs: 15_000,
        description: 'pipeline down on the page',
      },
    );
    const backlog = async (): Promise<number> =>
      Number(
        ((await page.textContent('[data-testid="loop-pipeline-backlog"] dd')) ?? '').replace(
          /,/g,
          '',
        ),
      );
    const before = await backlog();
    const more = feed(3_000, 600, 23);
    kcatProduce(topics.names['tx.web'] as string, more.tx);
    await waitFor(backlog, (after) => after > before, {
      timeoutMs: 30_000,
      description: 'pipeline backlog growing on the page',
    });
  });

  it('when ingest stops, then the lag series stay on the page and in /metrics, and grow', async () => {
    await stopService(service('ingest'));
    await waitFor(
      () => stateOf('ingest'),
      (state) => state === 'down',
      {
        timeoutMs: 15_000,
        description: 'ingest down on the page',
      },
    );
    const before = await pageLag();
    kcatProduce(topics.names['tx.web'] as string, feed(4_000, 500, 24).tx);
    await waitFor(pageLag, (after) => after >= before + 500, {
      timeoutMs: 30_000,
      description: 'lag growing on the page with ingest down',
    });
    const metrics = await (await fetch(`${base()}/metrics`)).text();
    const lagLine = new RegExp(
      `^kafka_consumergroup_group_sum_lag\\{[^}]*cluster_name="e2e"[^}]*group="${group}"[^}]*\\} (\\d+)`,
      'm',
    );
    expect(Number(lagLine.exec(metrics)?.[1])).toBeGreaterThanOrEqual(500);
    expect(metrics).toMatch(/^kafka_consumergroup_group_lag_seconds\{/m);
    expect(metrics).toMatch(/^kafka_partition_earliest_offset\{/m);
    if (process.env.UPDATE_SCREENSHOT)
      await page.screenshot({
        path: path.join(REPO_ROOT, 'docs', 'console-ingest-down.png'),
        fullPage: true,
      });
  });
});
