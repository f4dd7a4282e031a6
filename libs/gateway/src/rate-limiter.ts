/** The token bucket moved to @app/common (REST sends share the per-user bucket); kept here for the gateway. */
export { TokenBucket } from '@app/common';
