import { Transform } from 'class-transformer';

/** Trims strings and leaves anything else as it came, for the validators to refuse. */
export const Trim = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));
