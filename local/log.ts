// The local stack's own log lines: JSON, like the functions' (Powertools) lines beside them.
type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const order: Record<Level, number> = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 };
const threshold = order[(process.env.POWERTOOLS_LOG_LEVEL?.toUpperCase() as Level | undefined) ?? 'INFO'] ?? 1;

function write(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < threshold) return;
  process.stdout.write(
    `${JSON.stringify({ level, message, service: 'local-stack', timestamp: new Date().toISOString(), ...fields })}\n`,
  );
}

export const stackLogger = {
  debug: (message: string, fields?: Record<string, unknown>) => write('DEBUG', message, fields),
  info: (message: string, fields?: Record<string, unknown>) => write('INFO', message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => write('WARN', message, fields),
  error: (message: string, fields?: Record<string, unknown>) => write('ERROR', message, fields),
};
