import { Schema } from 'mongoose';
import type { Role } from '../ports/entities';
import { SCHEMA_OPTIONS } from './schema-options';

export interface UserDoc {
  _id: string;
  email: string;
  /** The unique key: emails are unique in any case. */
  emailLower: string;
  name: string;
  role: Role;
  disabled: boolean;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
  /** Set only on the user made admin by `firstUserIsAdmin`; a unique index lets one sign-up win that race. */
  firstAdmin?: true;
}

export const userSchema = new Schema<UserDoc>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true },
    emailLower: { type: String, required: true },
    name: { type: String, default: '' },
    role: { type: String, enum: ['user', 'admin'], required: true },
    disabled: { type: Boolean, default: false },
    passwordHash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    firstAdmin: { type: Boolean },
  },
  { ...SCHEMA_OPTIONS, collection: 'users' },
);

userSchema.index({ emailLower: 1 }, { unique: true });
userSchema.index({ createdAt: -1, _id: -1 });
userSchema.index({ role: 1, disabled: 1 });
userSchema.index({ firstAdmin: 1 }, { unique: true, partialFilterExpression: { firstAdmin: true } });
