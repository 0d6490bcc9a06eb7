/* The console page: plain browser JavaScript, no build step. Data comes from /api/events
 * (server-sent events, one snapshot every refresh) with /api/snapshot polling as a fallback. */
/* global document, window, EventSource, fetch, uPlot */
'use strict';

(function main() {
  const $ = (id) => document.getElementById(id);
  let paused = false;
  let lagPlot = null;
  let lagSeriesKey = '';
  let registryPlot = null;

  const text = (value) => (value === null || value === undefined ? '—' : String(value));
  const fixed = (value, digits = 3) =>
    typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—';
  const count = (value) =>
    typeof value === 'number' && Number.isFinite(value) ? value.toLocaleString('en-US') : '—';
  const duration = (seconds) => {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '—';
    if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
    if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
    if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
    return `${(seconds / 86400).toFixed(1)} days`;
  };
  const time = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '—');
  const ago = (iso, now) =>
    iso ? `${duration((Date.parse(now) - Date.parse(iso)) / 1000)} ago` : 'never';

  function el(tag, attributes = {}, children = []) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === 'text') node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) node.append(child);
    return node;
  }
  const cell = (value, numeric = false) =>
    el('td', numeric ? { class: 'num', text: value } : { text: value });
  const badge = (state) =>
    el('span', { class: `state state-${String(state).replace(/\s+/g, '-')}`, text: state });
  const replace = (id, ...nodes) => $(id).replaceChildren(...nodes);
  const tile = (label, value, testid) =>
    el('div', testid ? { 'data-testid': testid } : {}, [
      el('dt', { text: label }),
      el('dd', { text: value }),
    ]);
  const errorLine = (message) => el('p', { class: 'error', text: message });

  function chartWidth(id) {
    return Math.max(320, $(id).clientWidth || window.innerWidth - 64);
  }

  function renderSummary(s) {
    const ingestGroup = s.lag.groups[0];
    const registry = s.registry;
    const down = s.services
      .filter((service) => service.state !== 'up')
      .map((service) => service.name);
    replace(
      'summary-list',
      tile('services not up', down.length === 0 ? 'none' : down.join(', '), 'summary-services'),
      tile('lag (messages)', ingestGroup ? count(ingestGroup.sumLag) : '—', 'summary-lag'),
      tile('lag (seconds)', ingestGroup ? duration(ingestGroup.maxLagSeconds) : '—'),
      tile('lag trend', ingestGroup ? ingestGroup.trend : '—', 'summary-trend'),
      tile(
        'champion',
        registry && registry.champion ? `v${registry.champion.version}` : 'none',
        'summary-champion',
      ),
      tile(
        'champion AP',
        registry && registry.champion ? fixed(registry.champion.holdout.averagePrecision) : '—',
      ),
      tile(
        'since last promotion',
        registry ? duration(registry.secondsSinceLastPromotion) : '—',
        'summary-staleness',
      ),
      tile('label lag', s.loop ? duration(s.loop.labelLagSeconds) : '—'),
      tile('dead letters', count(s.deadLetters.total)),
    );
  }

  function renderServices(s) {
    replace(
      'services-body',
      ...s.services.map((service) =>
        el('tr', { 'data-testid': `service-${service.name}`, 'data-state': service.state }, [
          cell(service.name),
          el('td', {}, [badge(service.state)]),
          cell(`${service.instancesAlive} / ${service.instancesConfigured}`),
          cell(ago(service.lastHeartbeat, s.generatedAt)),
          cell(
            service.instances
              .map((instance) => instance.error || instance.failingChecks.join(', '))
              .filter((entry) => entry)
              .join('; ') || '—',
          ),
        ]),
      ),
    );
  }

  function renderLag(s) {
    const { lag } = s;
    $('lag-note').textContent = lag.error
      ? `reading the brokers failed: ${lag.error}`
      : `read from the brokers' committed offsets at ${time(lag.polledAt)} (cluster ${s.clusterName}); ` +
        lag.groups
          .map(
            (group) => `${group.group}: ${group.state}, ${group.members} member(s), ${group.trend}`,
          )
          .join(' · ');
    $('lag-note').className = lag.error ? 'error' : 'note';
    const rows = [];
    for (const group of lag.groups) {
      for (const partition of group.partitions) {
        rows.push(
          el(
            'tr',
            {
              'data-testid': 'lag-row',
              'data-group': group.group,
              'data-lag': String(partition.lag),
            },
            [
              cell(group.group),
              cell(partition.topic),
              cell(String(partition.partition), true),
              cell(count(partition.lag), true),
              cell(fixed(partition.lagSeconds, 1), true),
              cell(partition.committed === null ? '—' : count(partition.committed), true),
              cell(count(partition.latest), true),
              cell(
                partition.member ? `${partition.member.clientId}@${partition.member.host}` : 'none',
              ),
            ],
          ),
        );
      }
    }
    replace('lag-body', ...rows);
    drawLagChart(lag.groups);
  }

  function drawLagChart(groups) {
    const key = groups.map((group) => group.group).join('|');
    const xs = (groups[0] ? groups[0].history : []).map((sample) => sample.timeMs / 1000);
    const data = [xs];
    for (const group of groups) {
      data.push(group.history.map((sample) => sample.sumLag));
      data.push(group.history.map((sample) => sample.maxLagSeconds));
    }
    if (lagPlot && key === lagSeriesKey) {
      lagPlot.setData(data);
      return;
    }
    if (lagPlot) lagPlot.destroy();
    lagSeriesKey = key;
    const colours = ['#0047ab', '#b00020', '#0a6b2d', '#6a1b9a'];
    const series = [{}];
    groups.forEach((group, index) => {
      series.push({
        label: `${group.group} lag (messages)`,
        stroke: colours[index % 4],
        width: 2,
        scale: 'messages',
      });
      series.push({
        label: `${group.group} max lag (s)`,
        stroke: colours[index % 4],
        dash: [6, 4],
        width: 2,
        scale: 's',
      });
    });
    lagPlot = new uPlot(
      {
        width: chartWidth('lag-chart'),
        height: 240,
        series,
        scales: { x: { time: true } },
        axes: [
          {},
          { scale: 'messages', label: 'messages' },
          { scale: 's', side: 1, label: 'seconds', grid: { show: false } },
        ],
      },
      data,
      $('lag-chart'),
    );
  }

  function renderLoop(s) {
    if (!s.loop) {
      replace(
        'loop-list',
        errorLine(s.errors.loop ? `warehouse: ${s.errors.loop}` : 'no data yet'),
      );
      return;
    }
    const { loop } = s;
    replace(
      'loop-list',
      tile('stream head (event time)', time(loop.streamHead)),
      tile('pipeline watermark', time(loop.watermark), 'loop-watermark'),
      tile('labels matured until', time(loop.maturedUntil)),
      tile('label lag (event time)', duration(loop.labelLagSeconds), 'loop-label-lag'),
      tile('watermark behind head', duration(loop.watermarkDelaySeconds)),
      tile('watermark age (wall)', duration(loop.watermarkAgeSeconds), 'loop-watermark-age'),
      tile(
        'batches awaiting pipeline',
        count(loop.batchesAwaitingPipeline),
        'loop-pipeline-backlog',
      ),
    );
  }

  function renderRegistry(s) {
    const registry = s.registry;
    if (!registry) {
      $('registry-note').textContent = s.errors.registry
        ? `warehouse: ${s.errors.registry}`
        : 'no versions yet';
      return;
    }
    $('registry-note').textContent =
      `${registry.modelName}: ${registry.versions.length} version(s), ${registry.promotions} promoted, ` +
      `${registry.refusals} refused, ${registry.rollbacks} rolled back; champion ` +
      `${registry.champion ? `v${registry.champion.version}` : 'none'}, last promotion ` +
      `${registry.lastPromotionAt ? ago(registry.lastPromotionAt, s.generatedAt) : 'never'}`;
    replace(
      'registry-body',
      ...[...registry.versions]
        .reverse()
        .map((version) =>
          el('tr', { 'data-testid': 'version-row', 'data-version': String(version.version) }, [
            cell(`v${version.version}${version.isChampion ? ' (champion)' : ''}`),
            el('td', {}, [badge(version.decision)]),
            cell(time(version.createdAt)),
            cell(fixed(version.holdout.auc), true),
            cell(fixed(version.holdout.averagePrecision), true),
            cell(fixed(version.holdout.cardPrecisionAt100), true),
            cell(fixed(version.championOnHoldout.averagePrecision), true),
            cell(version.labelCutoff ? version.labelCutoff.slice(0, 10) : '—'),
            cell(version.gateReason),
          ]),
        ),
    );
    drawRegistryChart(registry.versions);
  }

  function drawRegistryChart(versions) {
    const xs = versions.map((version) => Date.parse(version.createdAt) / 1000);
    const pick = (fn) => versions.map((version) => fn(version));
    const data = [
      xs,
      pick((v) => v.holdout.auc),
      pick((v) => v.holdout.averagePrecision),
      pick((v) => v.holdout.cardPrecisionAt100),
      pick((v) => (v.decision === 'promoted' ? v.holdout.averagePrecision : null)),
      pick((v) => (v.decision === 'refused' ? v.holdout.averagePrecision : null)),
      pick((v) => (v.isChampion ? v.holdout.averagePrecision : null)),
    ];
    if (registryPlot) {
      registryPlot.setData(data);
      return;
    }
    const pointsOnly = (label, fill, size) => ({
      label,
      stroke: fill,
      fill,
      paths: () => null,
      points: { show: true, size, fill },
    });
    registryPlot = new uPlot(
      {
        width: chartWidth('registry-chart'),
        height: 260,
        scales: { x: { time: true }, y: { range: [0, 1] } },
        series: [
          {},
          { label: 'holdout AUC', stroke: '#0047ab', width: 2, spanGaps: true },
          { label: 'holdout AP', stroke: '#b00020', width: 2, spanGaps: true },
          { label: 'holdout CP@100', stroke: '#0a6b2d', width: 2, spanGaps: true },
          pointsOnly('promoted', '#0a6b2d', 9),
          pointsOnly('refused', '#8a4b00', 9),
          pointsOnly('champion', '#111', 14),
        ],
        axes: [{}, { label: 'holdout metric' }],
      },
      data,
      $('registry-chart'),
    );
  }

  function genericTable(rows) {
    const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))].slice(0, 8);
    return el('table', {}, [
      el('thead', {}, [
        el(
          'tr',
          {},
          columns.map((column) => el('th', { scope: 'col', text: column })),
        ),
      ]),
      el(
        'tbody',
        {},
        rows.map((row) =>
          el(
            'tr',
            {},
            columns.map((column) => {
              const value = row[column];
              return cell(
                typeof value === 'object' && value !== null
                  ? JSON.stringify(value).slice(0, 200)
                  : text(value),
              );
            }),
          ),
        ),
      ),
    ]);
  }

  function renderOptional(id, view, error, absent, empty) {
    if (error) replace(id, errorLine(`warehouse: ${error}`));
    else if (!view.exists)
      replace(
        id,
        el('p', {
          class: 'note',
          'data-testid': `${id}-absent`,
          text: `${absent} (table ${view.table} does not exist yet)`,
        }),
      );
    else if (view.rows.length === 0) replace(id, el('p', { class: 'note', text: empty }));
    else replace(id, genericTable(view.rows));
  }

  function renderDeadLetters(s) {
    const report = s.deadLetters;
    const parts = [];
    if (report.error) parts.push(errorLine(`reading the dead-letter topic: ${report.error}`));
    if (report.reasons.length === 0)
      parts.push(el('p', { class: 'note', text: 'no dead letters' }));
    for (const reason of report.reasons) {
      parts.push(el('h3', { text: `${reason.code}: ${count(reason.count)}` }));
      for (const sample of reason.latest) {
        parts.push(
          el('p', {
            class: 'note',
            text: `${time(sample.failedAt)} · ${sample.sourceTopic}/${sample.sourcePartition}@${sample.sourceOffset} · ${sample.reason}`,
          }),
          el('pre', { text: sample.value }),
        );
      }
    }
    replace('dlq-body', ...parts);
  }

  function renderOutbox(s) {
    if (s.outbox.length === 0) {
      replace(
        'outbox-body',
        s.errors.outbox
          ? errorLine(`warehouse: ${s.errors.outbox}`)
          : el('p', { class: 'note', text: 'no outbox tables yet' }),
      );
      return;
    }
    replace(
      'outbox-body',
      el('table', {}, [
        el('thead', {}, [
          el(
            'tr',
            {},
            ['outbox', 'unpublished', 'oldest'].map((name) =>
              el('th', { scope: 'col', text: name }),
            ),
          ),
        ]),
        el(
          'tbody',
          {},
          s.outbox.map((backlog) =>
            el('tr', {}, [
              cell(backlog.table),
              cell(count(backlog.pending), true),
              cell(duration(backlog.oldestAgeSeconds)),
            ]),
          ),
        ),
      ]),
    );
  }

  function render(s) {
    $('status').textContent = `live · updated ${time(s.generatedAt)} UTC`;
    renderSummary(s);
    renderServices(s);
    renderLag(s);
    renderLoop(s);
    renderRegistry(s);
    renderOptional(
      'live-body',
      s.liveQuality,
      s.errors.liveQuality,
      'no live quality yet',
      'no live quality measured yet',
    );
    renderDeadLetters(s);
    renderOutbox(s);
    renderOptional(
      'runs-body',
      s.runs,
      s.errors.runs,
      'no orchestrator runs',
      'no orchestrator runs',
    );
    document.body.setAttribute('data-updated', s.generatedAt);
  }

  function onSnapshot(data) {
    if (paused) return;
    try {
      render(JSON.parse(data));
    } catch (error) {
      $('status').textContent = `could not show the data: ${error.message}`;
    }
  }

  let pollTimer = null;
  function poll() {
    fetch('/api/snapshot', { credentials: 'same-origin' })
      .then((response) =>
        response.ok ? response.text() : Promise.reject(new Error(`HTTP ${response.status}`)),
      )
      .then(onSnapshot)
      .catch((error) => {
        $('status').textContent = `console unreachable: ${error.message}`;
      });
  }

  function connect() {
    if (typeof EventSource === 'undefined') {
      poll();
      pollTimer = window.setInterval(poll, 2000);
      return;
    }
    const events = new EventSource('/api/events');
    events.addEventListener('snapshot', (event) => onSnapshot(event.data));
    events.addEventListener('error', () => {
      $('status').textContent = 'connection lost; reconnecting…';
    });
  }

  $('pause').addEventListener('click', () => {
    paused = !paused;
    $('pause').setAttribute('aria-pressed', String(paused));
    $('pause').textContent = paused ? 'Resume live refresh' : 'Pause live refresh';
    if (!paused && pollTimer === null) poll();
  });
  window.addEventListener('resize', () => {
    if (lagPlot) lagPlot.setSize({ width: chartWidth('lag-chart'), height: 240 });
    if (registryPlot) registryPlot.setSize({ width: chartWidth('registry-chart'), height: 260 });
  });
  connect();
})();
