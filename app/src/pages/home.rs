use leptos::prelude::*;

use crate::components::layout::Layout;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Layout>
            <h1>"Welcome to Ratedeck"</h1>
            <p>"Rate calls, keep CDRs and charge balances for your PBX tenants."</p>
        </Layout>
    }
}
