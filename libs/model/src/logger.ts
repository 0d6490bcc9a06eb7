/**
 * The part of a pino logger this package writes to. Pass `logger.child({ component: 'model' })`;
 * the package never writes to the console itself.
 */
export interface ModelLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}
