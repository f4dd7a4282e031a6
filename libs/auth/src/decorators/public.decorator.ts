import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'confab:public';

/** Opens a route (or every route of a controller) to callers without an access token. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
