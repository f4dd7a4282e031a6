import { AppError } from '@app/common';

export function invalidCursor(): AppError {
  return AppError.validation([{ field: 'cursor', message: 'cursor is not valid' }]);
}
