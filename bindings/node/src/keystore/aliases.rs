//! Aliases and tags.

use sealbox::keystore as ks;

use super::metadata::AliasEntry;
use super::KeyStore;
use crate::args::{map, StringMap};
use crate::task::{twins, Job};

impl KeyStore {
    /// A job that makes one call that returns nothing.
    fn unit_job(
        &self,
        call: impl FnOnce(&ks::KeyStore) -> sealbox::Result<()> + Send + 'static,
    ) -> napi::Result<Job<()>> {
        let k = self.ks();
        Ok(Job::new(move || call(&k)))
    }
}

twins! {
    impl KeyStore {
        #[doc = " CreateAlias: `alias/` + letters, digits, `/ _ -`."]
        #[promise("Promise<void>")]
        #[doc = " CreateAlias, blocking."]
        fn create_alias, create_alias_sync(&self, alias: String, key: String) -> () {
            self.unit_job(move |k| k.create_alias(&alias, &key))
        }

        #[doc = " UpdateAlias: points an existing alias at another key."]
        #[promise("Promise<void>")]
        #[doc = " UpdateAlias, blocking."]
        fn update_alias, update_alias_sync(&self, alias: String, key: String) -> () {
            self.unit_job(move |k| k.update_alias(&alias, &key))
        }

        #[doc = " DeleteAlias."]
        #[promise("Promise<void>")]
        #[doc = " DeleteAlias, blocking."]
        fn delete_alias, delete_alias_sync(&self, alias: String) -> () {
            self.unit_job(move |k| k.delete_alias(&alias))
        }

        #[doc = " ListAliases."]
        #[promise("Promise<Array<AliasEntry>>")]
        #[doc = " ListAliases, blocking."]
        fn list_aliases, list_aliases_sync(&self) -> Vec<AliasEntry> {
            let k = self.ks();
            Ok(Job::new(move || {
                Ok(k.list_aliases()?
                    .into_iter()
                    .map(|(alias_name, key_id)| AliasEntry { alias_name, key_id })
                    .collect())
            }))
        }

        #[doc = " TagResource: adds or replaces tags."]
        #[promise("Promise<void>")]
        #[doc = " TagResource, blocking."]
        #[ts_args("key: string, tags: Record<string, string>")]
        fn tag_key, tag_key_sync(&self, key: String, tags: StringMap) -> () {
            let tags = map(Some(tags));
            self.unit_job(move |k| k.tag_key(&key, &tags))
        }

        #[doc = " UntagResource: removes the named tags."]
        #[promise("Promise<void>")]
        #[doc = " UntagResource, blocking."]
        fn untag_key, untag_key_sync(&self, key: String, tag_keys: Vec<String>) -> () {
            self.unit_job(move |k| k.untag_key(&key, &tag_keys))
        }
    }
}
