import { leavesNoAdmin } from './last-admin.rule';

const admin = { role: 'admin' as const, disabled: false };
const user = { role: 'user' as const, disabled: false };

describe(leavesNoAdmin.name, () => {
  it('should refuse to demote, disable or delete the only enabled admin', () => {
    const counts = { enabledAdmins: 1, users: 5 };
    expect(leavesNoAdmin(admin, { role: 'user', disabled: false }, counts)).toBe(true);
    expect(leavesNoAdmin(admin, { role: 'admin', disabled: true }, counts)).toBe(true);
    expect(leavesNoAdmin(admin, 'deleted', counts)).toBe(true);
  });

  it('should allow it while another enabled admin remains', () => {
    const counts = { enabledAdmins: 2, users: 5 };
    expect(leavesNoAdmin(admin, { role: 'user', disabled: false }, counts)).toBe(false);
    expect(leavesNoAdmin(admin, 'deleted', counts)).toBe(false);
  });

  it('should not concern changes that keep the admin an enabled admin, or plain users', () => {
    const counts = { enabledAdmins: 1, users: 5 };
    expect(leavesNoAdmin(admin, { role: 'admin', disabled: false }, counts)).toBe(false);
    expect(leavesNoAdmin(user, 'deleted', counts)).toBe(false);
    expect(leavesNoAdmin({ role: 'admin', disabled: true }, 'deleted', counts)).toBe(false);
  });

  it('should let the only account of the instance delete itself when asked to', () => {
    expect(leavesNoAdmin(admin, 'deleted', { enabledAdmins: 1, users: 1 }, { soleUserMayLeave: true })).toBe(false);
    expect(leavesNoAdmin(admin, 'deleted', { enabledAdmins: 1, users: 2 }, { soleUserMayLeave: true })).toBe(true);
    expect(leavesNoAdmin(admin, 'deleted', { enabledAdmins: 1, users: 1 })).toBe(true);
  });
});
