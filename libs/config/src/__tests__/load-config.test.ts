import { z } from 'zod';
import { ConfigError, booleanFlag, commaList, integer, loadConfig } from '../load-config';
import { amqpEnvShape, commonEnvShape, warehouseEnvShape } from '../common';
import { kafkaEnvShape } from '../kafka-security';

const schema = z.object({
  ...commonEnvShape,
  ...kafkaEnvShape,
  ...amqpEnvShape,
  ...warehouseEnvShape,
  FLAG: booleanFlag().default(false),
});

describe('loadConfig', () => {
  it('when only secrets are given, then every other option takes its documented default', () => {
    const config = loadConfig(schema, {
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/streamtrain',
    });
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.HTTP_PORT).toBe(9464);
    expect(config.WAREHOUSE_SCHEMA).toBe('streamtrain');
    expect(config.FLAG).toBe(false);
  });

  it('when several variables are wrong, then one error lists every problem', () => {
    const attempt = (): unknown =>
      loadConfig(schema, { HTTP_PORT: 'abc', WAREHOUSE_SCHEMA: 'Bad-Name', FLAG: 'maybe' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/AMQP_URL/);
      expect(problems).toMatch(/DATABASE_URL/);
      expect(problems).toMatch(/HTTP_PORT/);
      expect(problems).toMatch(/WAREHOUSE_SCHEMA/);
      expect(problems).toMatch(/FLAG/);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    }
  });

  it('returns a frozen object, so no component can change config behind the others', () => {
    const config = loadConfig(z.object({ LIST: commaList() }), { LIST: 'a, b,,c' });
    expect(config.LIST).toEqual(['a', 'b', 'c']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.LIST)).toBe(true);
  });

  it('parses flags and integers', () => {
    const config = loadConfig(z.object({ A: booleanFlag(), B: booleanFlag(), N: integer(2) }), {
      A: '1',
      B: 'false',
      N: '5',
    });
    expect(config).toEqual({ A: true, B: false, N: 5 });
    expect(() => loadConfig(z.object({ N: integer(2) }), { N: '1' })).toThrow(/N:/);
  });
});
