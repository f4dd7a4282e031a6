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

/**
 * The one validation pipe for every HTTP body, query and socket payload: unknown fields are rejected, values are
 * transformed to their declared types, and failures become `validation_failed` with one detail per field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => AppError.validation(validationDetails(errors)),
  });
}
