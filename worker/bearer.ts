/** `Authorization: Bearer <secret>`, the one form every edgeplane credential (API token, agent, bootstrap) is sent in. */
const BEARER = /^Bearer\s+(\S+)$/i;

/** The secret of a bearer Authorization header, or undefined when the header is missing or has another form. */
export const bearerSecret = (header: string | undefined): string | undefined => BEARER.exec(header ?? '')?.[1];
