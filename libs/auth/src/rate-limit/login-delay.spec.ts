import { loginDelayMs } from './login-delay';

describe(loginDelayMs.name, () => {
  it('should not slow the first failures down, then double from one second up to the cap', () => {
    const delays = Array.from({ length: 8 }, (_, failures) => loginDelayMs(failures, 3, 10_000));
    expect(delays).toEqual([0, 0, 0, 1000, 2000, 4000, 8000, 10_000]);
    expect(loginDelayMs(1_000_000, 3, 10_000)).toBe(10_000);
  });

  it('should never delay when the cap is 0', () => {
    expect(loginDelayMs(50, 3, 0)).toBe(0);
  });
});
