/* hubspot.h: HubSpotVerifier objects (wiping their secrets when collected) and the functions
 * one to one. verify() returns the index of the secret that matched; bodies are bytes (or str,
 * as UTF-8) in Python and Strings of any encoding in Ruby. Verification is CPU work on at most
 * the body limit, so it keeps the GIL/GVL. */
%rename(HubSpotVerifier) fastepost_hubspot_verifier;
%fastepost_handle(fastepost_hubspot_verifier, fastepost_hubspot_verifier_free)
%ignore fastepost_hubspot_verifier_new;
%extend fastepost_hubspot_verifier {
  fastepost_hubspot_verifier() {
    fastepost_hubspot_verifier *v = NULL;
    fastepost_status rc = fastepost_hubspot_verifier_new(&v);
    if (rc != FASTEPOST_OK)
      FP_CTOR_FAILED(rc);
    return v;
  }
}

%apply int *OUTPUT { int *secret_index };
/* A missing header arrives as None/nil: the library refuses it with AuthError. */
%apply const char *NULLABLE { const char *version, const char *method, const char *uri,
                              const char *timestamp, const char *signature };
%apply (const void *BYTES, size_t LENGTH) { (const void *body, size_t body_len) };
/* Processing (options, batch results) is bound by the hubspot_process helper in events.i. */
%rename("$ignore", regextarget=1) "^fastepost_hubspot_options";
%rename("$ignore", regextarget=1) "^fastepost_hubspot_batch";
%ignore fastepost_hubspot_process;
%include "fastepost/hubspot.h"
%clear const char *version, const char *method, const char *uri, const char *timestamp,
       const char *signature;
