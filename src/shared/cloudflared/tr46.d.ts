// tr46 ships no types; this is the one function edgeplane uses (https://github.com/jsdom/tr46#api).
declare module 'tr46' {
  export function toASCII(
    domainName: string,
    options?: {
      checkBidi?: boolean;
      checkHyphens?: boolean;
      checkJoiners?: boolean;
      ignoreInvalidPunycode?: boolean;
      transitionalProcessing?: boolean;
      useSTD3ASCIIRules?: boolean;
      verifyDNSLength?: boolean;
    },
  ): string | null;
}
