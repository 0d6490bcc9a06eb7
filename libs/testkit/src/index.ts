export * from './servers';
export * from './wait-for';
export * from './isolation';
export * from './containers';
export * from './event-harness';
export * from './secure-kafka';
export * from './own-rabbitmq';
export * from './tls-servers';
