import { formatMarkdownTable } from '../quality/report';
import { updateQualityDoc } from '../quality/quality-doc';
import { escapeXml, linePath, linearScale, renderRollingApSvg } from '../quality/svg-plot';

describe('linearScale', () => {
  it('maps the domain ends onto the range ends, inverted ranges included', () => {
    const y = linearScale([0, 1], [400, 40]);
    expect(y(0)).toBe(400);
    expect(y(1)).toBe(40);
    expect(y(0.5)).toBe(220);
  });

  it('when the domain has no width, then everything maps to the middle of the range', () => {
    expect(linearScale([3, 3], [0, 100])(42)).toBe(50);
  });
});

describe('linePath', () => {
  it('when a value is missing, then the line breaks instead of bridging the gap', () => {
    expect(
      linePath([
        { x: 0, y: 1 },
        { x: 1, y: 2 },
        { x: 2, y: null },
        { x: 3, y: 4 },
      ]),
    ).toBe('M0.0,1.0 L1.0,2.0 M3.0,4.0');
  });
});

describe('renderRollingApSvg', () => {
  it('draws a standalone SVG with the line, the test weeks and escaped text', () => {
    const svg = renderRollingApSvg({
      title: 'AP <rolling> & more',
      caption: 'caption',
      days: 10,
      startMs: Date.UTC(2018, 3, 1),
      points: [
        { day: 6, ap: 0.5 },
        { day: 7, ap: 0.6 },
      ],
      promotionsPerDay: [0, 0, 0, 0, 0, 0, 3, 1, 0, 0],
      testPeriod: { startDay: 7, endDay: 10 },
      references: [{ label: 'handbook', value: 0.675 }],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain(escapeXml('AP <rolling> & more'));
    expect(svg).not.toContain('<rolling>');
    expect(svg).toContain('test weeks');
    expect(svg).toMatch(/<path d="M[\d.]+,[\d.]+ L[\d.]+,[\d.]+"/);
    // One bar per day with promotions.
    expect(svg.match(/fill="#2e8b57"\/>/g)).toHaveLength(2);
  });
});

describe('updateQualityDoc', () => {
  const section = '<!-- quality:results:begin -->\nnew\n<!-- quality:results:end -->';

  it('when the page has the markers, then only the text between them is replaced', () => {
    const existing =
      'intro\n<!-- quality:results:begin -->\nold\n<!-- quality:results:end -->\nnotes\n';
    expect(updateQualityDoc(existing, 'template {{results}}', section)).toBe(
      `intro\n${section}\nnotes\n`,
    );
  });

  it('when there is no page yet, then the template is filled in', () => {
    expect(updateQualityDoc(null, 'a {{results}} b', section)).toBe(`a ${section} b`);
  });
});

describe('formatMarkdownTable', () => {
  it('pads and aligns the columns as Prettier does', () => {
    expect(
      formatMarkdownTable(
        ['test week', 'AP'],
        ['left', 'right'],
        [
          ['2018-08-08', '0.635'],
          ['x', '1'],
        ],
      ),
    ).toBe(
      [
        '| test week  |    AP |',
        '| ---------- | ----: |',
        '| 2018-08-08 | 0.635 |',
        '| x          |     1 |',
      ].join('\n'),
    );
  });
});
