import { type ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError, type ErrorDetail } from '../errors/app-error';

/** Flattens class-validator's nested errors into one `{ field, message }` per bad field. */
export function validationDetails(errors: ValidationError[], prefix = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...validationDetails(error.children ?? [], field)];
  });
}

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'];

/** One detail per prototype-pollution key (`__proto__`, `constructor`, `prototype`) anywhere in a parsed value. */
export function prototypeKeyDetails(value: unknown): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const seen = new WeakSet<object>();
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (current === null || typeof current !== 'object' || seen.has(current)) {
      continue;
    }
    seen.add(current);
    for (const key of Object.keys(current)) {
      const field = path ? `${path}.${key}` : key;
      if (PROTOTYPE_KEYS.includes(key)) {
        details.push({ field, message: `property ${key} should not exist` });
      } else {
        stack.push({ value: (current as Record<string, unknown>)[key], path: field });
      }
    }
  }
  return details;
}

/**
 * Nest's pipe silently deletes `__proto__`, `constructor` and `prototype` keys before validating; the contract
 * rejects unknown fields instead of dropping them, so these are refused like any other unknown field.
 */
class StrictValidationPipe extends ValidationPipe {
  protected override stripProtoKeys(value: unknown): void {
    const details = prototypeKeyDetails(value);
    if (details.length > 0) {
      throw AppError.validation(details);
    }
    super.stripProtoKeys(value);
  }
}

/**
 * The one validation pipe for every HTTP body, query and socket payload: unknown fields are rejected, values are
 * transformed to their declared types, and failures become `validation_failed` with one detail per field.
 */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => AppError.validation(validationDetails(errors)),
  });
}
